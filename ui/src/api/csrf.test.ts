import createClient from "openapi-fetch";
import { describe, expect, it, vi } from "vitest";
import { CSRF_HEADER, readCookie, trellisMiddleware } from "./csrf";
import { ApiProblem } from "./problem";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("a=1; trellis_csrf=abc%3D%3D; b=2", "trellis_csrf")).toBe("abc==");
    expect(readCookie("xtrellis_csrf=no", "trellis_csrf")).toBeNull();
    expect(readCookie("", "trellis_csrf")).toBeNull();
  });
});

function clientWith(fetchImpl: (req: Request) => Promise<Response>) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const client = createClient<any>({ baseUrl: "http://ui.test", fetch: fetchImpl });
  client.use(trellisMiddleware(() => "session=x; trellis_csrf=tok123"));
  return client;
}

describe("trellisMiddleware", () => {
  it("sends the CSRF header on state-changing methods only", async () => {
    const seen: Record<string, string | null> = {};
    const fetchImpl = vi.fn((req: Request) => {
      seen[req.method] = req.headers.get(CSRF_HEADER);
      return Promise.resolve(new Response(null, { status: 204 }));
    });
    const client = clientWith(fetchImpl);
    await client.GET("/api/v2/things", {});
    await client.POST("/api/v2/things", { body: {} });
    await client.PATCH("/api/v2/things/1", { body: {} });
    await client.DELETE("/api/v2/things/1", {});
    expect(seen).toEqual({ GET: null, POST: "tok123", PATCH: "tok123", DELETE: "tok123" });
  });

  it("throws an ApiProblem with field errors for a problem response", async () => {
    const client = clientWith(() =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            type: "validation-failed",
            title: "Validation failed",
            status: 422,
            detail: "Invalid input",
            errors: [{ pointer: "/name", detail: "Required.", code: "missing" }],
          }),
          { status: 422, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    const call = client.POST("/api/v2/things", { body: {} });
    await expect(call).rejects.toBeInstanceOf(ApiProblem);
    await call.catch((e: ApiProblem) => {
      expect(e.status).toBe(422);
      expect(e.errors).toEqual([{ pointer: "/name", detail: "Required.", code: "missing" }]);
    });
  });

  it("lets successful responses through", async () => {
    const client = clientWith(() => Promise.resolve(Response.json({ ok: 1 })));
    const { data } = (await client.GET("/api/v2/things", {})) as { data?: unknown };
    expect(data).toEqual({ ok: 1 });
  });
});
