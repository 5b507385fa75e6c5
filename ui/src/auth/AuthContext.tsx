import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, type ReactNode } from "react";
import { api, ok } from "../api/client";
import { ApiProblem } from "../api/problem";
import type { Me } from "../api/types";
import { can, type PermissionKey } from "../lib/permissions";

export const ME_KEY = ["auth", "me"] as const;
export const SETUP_KEY = ["setup"] as const;

interface AuthState {
  me: Me | null;
  needsSetup: boolean;
  loading: boolean;
  /** Store the `Me` a login or setup call returned. */
  signedIn: (me: Me) => void;
  logout: () => Promise<void>;
  can: (resource: string, permission: PermissionKey) => boolean;
}

const AuthContext = createContext<AuthState | null>(null);

async function fetchMe(): Promise<Me | null> {
  try {
    return ok(await api.GET("/api/v2/auth/me"));
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return null;
    throw error;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const setup = useQuery({
    queryKey: SETUP_KEY,
    queryFn: async () => ok(await api.GET("/api/v2/setup")),
    staleTime: Infinity,
  });
  const needsSetup = setup.data?.needs_setup ?? false;
  const me = useQuery({
    queryKey: ME_KEY,
    queryFn: fetchMe,
    enabled: setup.isSuccess && !needsSetup,
    staleTime: 60_000,
  });

  const signedIn = useCallback(
    (value: Me) => {
      queryClient.setQueryData(SETUP_KEY, { needs_setup: false });
      queryClient.setQueryData(ME_KEY, value);
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    try {
      await api.POST("/api/v2/auth/logout");
    } finally {
      // Forget the user first (its observers see null at once), then all they could see.
      queryClient.setQueryData(ME_KEY, null);
      queryClient.removeQueries({
        predicate: (q) => q.queryKey[0] !== SETUP_KEY[0] && q.queryKey[0] !== ME_KEY[0],
      });
    }
  }, [queryClient]);

  const value = useMemo<AuthState>(() => {
    const current = me.data ?? null;
    return {
      me: current,
      needsSetup,
      loading: setup.isPending || (!needsSetup && me.isPending && me.fetchStatus !== "idle"),
      signedIn,
      logout,
      can: (resource, permission) => can(current, resource, permission),
    };
  }, [me.data, me.isPending, me.fetchStatus, needsSetup, setup.isPending, signedIn, logout]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
