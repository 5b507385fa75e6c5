import { Button, Form, Layer, InlineNotification, PasswordInput, Stack, TextInput } from "@carbon/react";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { ApiProblem } from "../api/problem";
import { useAuth } from "./AuthContext";
import { FormMessages, PageLoading, useFormErrors } from "../components/common";

const FIELDS = ["email", "password"] as const;

export function LoginPage() {
  const { me, needsSetup, loading, signedIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [lockout, setLockout] = useState<string | null>(null);
  const [badCredentials, setBadCredentials] = useState<string | null>(null);
  const form = useFormErrors(FIELDS);

  if (loading) return <PageLoading />;
  if (needsSetup) return <Navigate to="/setup" replace />;
  if (me) return <Navigate to={from} replace />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    form.clear();
    setLockout(null);
    setBadCredentials(null);
    try {
      const result = ok(await api.POST("/api/v2/auth/login", { body: { email, password } }));
      signedIn(result);
      void navigate(from, { replace: true });
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 429) {
        const retry = error.detail || "Too many failed sign-ins. Wait a few minutes, then try again.";
        setLockout(retry);
      } else if (error instanceof ApiProblem && error.status === 401) {
        setBadCredentials(error.detail || "The email address or password is wrong.");
      } else {
        form.fromError(error);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="trellis-auth">
      <main className="trellis-auth__panel">
        <h1>Log in to Trellis</h1>
        <p className="trellis-auth__lead">Use the email address and password of your Trellis account.</p>
        <Layer>
          <Form onSubmit={(e) => void onSubmit(e)} aria-label="Log in" noValidate>
            <Stack gap={6}>
              {lockout ? (
                <InlineNotification
                  kind="error"
                  title="Account temporarily locked"
                  subtitle={lockout}
                  hideCloseButton
                  lowContrast
                />
              ) : null}
              {badCredentials ? (
                <InlineNotification
                  kind="error"
                  title="Could not log in"
                  subtitle={badCredentials}
                  hideCloseButton
                  lowContrast
                />
              ) : null}
              <FormMessages errors={form.errors} title="Could not log in" />
              <TextInput
                id="login-email"
                labelText="Email"
                type="email"
                autoComplete="username"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                required
                // eslint-disable-next-line jsx-a11y/no-autofocus -- the page exists only to fill in this form; starting in its first field is expected.
                autoFocus
                {...form.fieldProps("email")}
              />
              <PasswordInput
                id="login-password"
                labelText="Password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
                {...form.fieldProps("password")}
              />
              <Button type="submit" disabled={busy || !email || !password}>
                {busy ? "Logging in…" : "Log in"}
              </Button>
            </Stack>
          </Form>
        </Layer>
      </main>
    </div>
  );
}
