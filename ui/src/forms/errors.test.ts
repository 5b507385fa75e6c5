import { describe, expect, it } from "vitest";
import { ApiProblem } from "../api/problem";
import { errorsFromLocal, errorsFromProblem, fieldError, mapErrors, mergeErrors, settingError } from "./errors";

describe("mapErrors", () => {
  it("puts field errors on the field that was sent at that index", () => {
    const errors = mapErrors(
      [
        { pointer: "/fields/1/name", detail: "taken" },
        { pointer: "/fields/1/options/0/value", detail: "empty" },
        { pointer: "/fields/0", detail: "bad field" },
      ],
      ["a", "b"],
    );
    expect(errors.fields).toEqual({ b: { name: "taken", "options/0/value": "empty" }, a: { "": "bad field" } });
    expect(fieldError(errors, "b", "options", true)).toBe("empty");
    expect(fieldError(errors, "b", "options")).toBeUndefined();
  });

  it("maps settings, nested settings and actions", () => {
    const errors = mapErrors(
      [
        { pointer: "/alias", detail: "in use" },
        { pointer: "/success/redirect_url", detail: "not a URL" },
        { pointer: "/allowed_origins/2", detail: "not an origin" },
        { pointer: "/actions/1/config/segments", detail: "unknown segment" },
        { pointer: "/body/name", detail: "required" },
      ],
      [],
    );
    expect(settingError(errors, "alias")).toBe("in use");
    expect(settingError(errors, "success/redirect_url")).toBe("not a URL");
    expect(settingError(errors, "allowed_origins")).toBe("not an origin");
    expect(settingError(errors, "name")).toBe("required");
    expect(errors.actions).toEqual({ 1: { "config/segments": "unknown segment" } });
    expect(errors.general).toEqual([]);
  });

  it("keeps what names nothing known as a general message, never dropping it", () => {
    const errors = mapErrors(
      [
        { pointer: "/fields/9/name", detail: "x" },
        { pointer: "/weird/path", detail: "y" },
        { pointer: "", detail: "z" },
      ],
      ["a"],
    );
    expect(errors.general).toEqual(["fields.9.name: x", "weird.path: y", "z"]);
  });
});

describe("errorsFromProblem", () => {
  it("uses the title of a problem without field errors", () => {
    const p = new ApiProblem({ title: "Conflict", detail: "The alias is in use." }, 409);
    expect(errorsFromProblem(p, []).general).toEqual(["The alias is in use."]);
    const stale = new ApiProblem({}, 412);
    expect(errorsFromProblem(stale, []).general[0]).toMatch(/Someone else changed/);
    expect(errorsFromProblem(new Error("offline"), []).general).toEqual(["offline"]);
  });

  it("merges server and local errors on one field", () => {
    const server = errorsFromProblem(
      new ApiProblem({ errors: [{ pointer: "/fields/0/name", detail: "reserved", code: "x" }] }, 422),
      ["a"],
    );
    const local = errorsFromLocal({ "fields/0/name": "duplicate", name: "empty" }, ["a"]);
    const both = mergeErrors(server, local);
    expect(fieldError(both, "a", "name")).toBe("reserved duplicate");
    expect(settingError(both, "name")).toBe("empty");
  });
});
