import { describe, expect, it } from "vitest";
import {
  ApiProblem,
  describeError,
  pointerToField,
  pointerTokens,
  problemFromResponse,
  problemToFormErrors,
} from "./problem";

describe("pointers", () => {
  it("decodes RFC 6901 escapes", () => {
    expect(pointerTokens("/a~1b/c~0d/0")).toEqual(["a/b", "c~d", "0"]);
    expect(pointerTokens("")).toEqual([]);
  });
  it("names fields with dots", () => {
    expect(pointerToField("/email")).toBe("email");
    expect(pointerToField("/permissions/projects")).toBe("permissions.projects");
  });
});

describe("problemToFormErrors", () => {
  const problem = new ApiProblem(
    {
      type: "validation-failed",
      title: "Validation failed",
      status: 422,
      detail: "2 fields are invalid",
      errors: [
        { pointer: "/email", detail: "Not an email address.", code: "invalid" },
        { pointer: "/email", detail: "Already taken.", code: "unique" },
        { pointer: "/permissions/projects/0", detail: "Unknown permission.", code: "invalid" },
        { pointer: "/nickname", detail: "Too long.", code: "too_long" },
      ],
    },
    422,
  );

  it("maps each pointer to its field and joins several messages", () => {
    const result = problemToFormErrors(problem);
    expect(result.fields.email).toBe("Not an email address. Already taken.");
    expect(result.fields["permissions.projects.0"]).toBe("Unknown permission.");
    expect(result.general).toEqual([]);
  });

  it("falls back to the nearest known ancestor, and to general messages", () => {
    const result = problemToFormErrors(problem, ["email", "permissions"]);
    expect(result.fields.permissions).toBe("Unknown permission.");
    expect(result.fields.nickname).toBeUndefined();
    expect(result.general).toEqual(["nickname: Too long."]);
  });

  it("shows the detail when no field is named", () => {
    const p = new ApiProblem({ title: "Conflict", status: 409, detail: "Email taken" }, 409);
    expect(problemToFormErrors(p)).toEqual({ fields: {}, general: ["Email taken"] });
  });

  it("keeps plain errors as general messages", () => {
    expect(problemToFormErrors(new Error("offline")).general).toEqual(["offline"]);
  });

  it("keeps a thrown string and describes a thrown plain object in words", () => {
    expect(problemToFormErrors("offline").general).toEqual(["offline"]);
    expect(problemToFormErrors({ reason: "?" }).general).toEqual(["Something went wrong."]);
  });
});

describe("problemFromResponse", () => {
  it("reads a problem+json body", async () => {
    const res = new Response(
      JSON.stringify({ type: "t", title: "Too many requests", status: 429, detail: "Locked for 15 minutes" }),
      { status: 429, headers: { "content-type": "application/problem+json" } },
    );
    const p = await problemFromResponse(res);
    expect(p).toBeInstanceOf(ApiProblem);
    expect(p.status).toBe(429);
    expect(p.detail).toBe("Locked for 15 minutes");
    expect(p.errors).toEqual([]);
  });

  it("keeps the extension members and the instance", async () => {
    const body = {
      title: "Contacts are waiting",
      status: 409,
      instance: "/api/v2/campaigns/3",
      waiting: [{ key: "a1", contacts: 12 }],
    };
    const res = new Response(JSON.stringify(body), {
      status: 409,
      headers: { "content-type": "application/problem+json" },
    });
    const p = await problemFromResponse(res);
    expect(p.instance).toBe("/api/v2/campaigns/3");
    expect(p.extensions).toEqual({ waiting: [{ key: "a1", contacts: 12 }] });
  });

  it("survives a non-JSON body", async () => {
    const p = await problemFromResponse(new Response("<html>bad gateway</html>", { status: 502 }));
    expect(p.status).toBe(502);
    expect(p.title).toBe("Server error");
  });

  it("describes a stale edit in words", () => {
    expect(describeError(new ApiProblem({}, 412))).toMatch(/someone else changed/i);
  });
});
