import { describe, expect, it } from "vitest";
import { ApiProblem, ok } from "./client";

describe("ok", () => {
  it("returns the data of a success", () => {
    expect(ok({ data: { id: 1 } })).toEqual({ id: 1 });
  });

  it("throws an error body as an ApiProblem with the response status", () => {
    const body = { title: "Conflict", detail: "Email taken" };
    let thrown: unknown;
    try {
      ok({ error: body, response: new Response(null, { status: 409 }) });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ApiProblem);
    expect(thrown).toMatchObject({ status: 409, title: "Conflict", detail: "Email taken" });
  });

  it("rethrows an Error as it is", () => {
    const error = new Error("offline");
    expect(() => ok({ error })).toThrow(error);
  });
});
