import { Button, Form, Layer, PasswordInput, Stack, TextInput } from "@carbon/react";
import { useState, type FormEvent } from "react";
import { Navigate, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { ApiProblem } from "../api/problem";
import { useAuth } from "./AuthContext";
import { FormMessages, PageLoading, useFormErrors } from "../components/common";

const FIELDS = ["email", "name", "password"] as const;

export function SetupPage() {
  const { needsSetup, loading, signedIn } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS);

  if (loading) return <PageLoading />;
  if (!needsSetup) return <Navigate to="/" replace />;

  const mismatch = confirm !== "" && confirm !== password;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    form.clear();
    try {
      const me = ok(await api.POST("/api/v2/setup", { body: { email, name, password } }));
      signedIn(me);
      void navigate("/", { replace: true });
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 409) {
        // Someone finished setup first: sign in normally.
        void navigate("/login", { replace: true });
        return;
      }
      form.fromError(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="trellis-auth">
      <main className="trellis-auth__panel">
        <h1>Set up Trellis</h1>
        <p className="trellis-auth__lead">Create the first administrator. You will be logged in as this user.</p>
        <Layer>
          <Form onSubmit={(e) => void onSubmit(e)} aria-label="Create the first administrator" noValidate>
            <Stack gap={6}>
              <FormMessages errors={form.errors} title="Could not finish setup" />
              <TextInput
                id="setup-email"
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
              <TextInput
                id="setup-name"
                labelText="Name"
                autoComplete="name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                {...form.fieldProps("name")}
              />
              <PasswordInput
                id="setup-password"
                labelText="Password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
                {...form.fieldProps("password")}
              />
              <PasswordInput
                id="setup-confirm"
                labelText="Repeat password"
                autoComplete="new-password"
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
                required
                invalid={mismatch}
                invalidText="The passwords differ."
              />
              <Button type="submit" disabled={busy || !email || !name || !password || mismatch}>
                {busy ? "Creating…" : "Create administrator"}
              </Button>
            </Stack>
          </Form>
        </Layer>
      </main>
    </div>
  );
}
