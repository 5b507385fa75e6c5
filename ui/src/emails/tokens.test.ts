import { describe, expect, it } from "vitest";
import { fieldToken, insertAt, tokenChoices, tokensIn, withFallback } from "./tokens";

describe("fieldToken", () => {
  it("writes the alias and the fallback", () => {
    expect(fieldToken("contactfield", "first_name", "there")).toBe("{contactfield=first_name|there}");
    expect(fieldToken("ownerfield", "email")).toBe("{ownerfield=email}");
  });
  it("drops braces from the fallback, which would end the token early", () => {
    expect(fieldToken("contactfield", "city", "{somewhere}")).toBe("{contactfield=city|somewhere}");
  });
  it("refuses an alias the renderer would not read", () => {
    expect(() => fieldToken("contactfield", "1st")).toThrow();
    expect(() => fieldToken("contactfield", "first-name")).toThrow();
  });
});

describe("tokenChoices", () => {
  it("offers the instance's fields, the owner's, the links and the date", () => {
    const choices = tokenChoices([
      { alias: "first_name", label: "First name" },
      { alias: "loyalty_tier", label: "Tier" },
    ]);
    const tokens = choices.map((c) => c.token);
    expect(tokens).toContain("{contactfield=first_name}");
    expect(tokens).toContain("{contactfield=loyalty_tier}");
    expect(tokens).toContain("{ownerfield=name}");
    expect(tokens).toEqual(
      expect.arrayContaining(["{unsubscribe_url}", "{webview_url}", "{preferences_url}", "{date}"]),
    );
    expect(choices.find((c) => c.token === "{unsubscribe_url}")?.isUrl).toBe(true);
    expect(choices.find((c) => c.token === "{date}")?.isUrl).toBe(false);
  });
  it("skips fields whose alias no token can name", () => {
    expect(tokenChoices([{ alias: "bad-alias", label: "Bad" }]).filter((c) => c.group === "Contact fields")).toEqual(
      [],
    );
  });
});

describe("withFallback", () => {
  it("sets or replaces the fallback of a field token", () => {
    expect(withFallback("{contactfield=first_name}", "friend")).toBe("{contactfield=first_name|friend}");
    expect(withFallback("{contactfield=first_name|x}", "")).toBe("{contactfield=first_name}");
  });
  it("leaves other tokens alone", () => {
    expect(withFallback("{unsubscribe_url}", "x")).toBe("{unsubscribe_url}");
  });
});

describe("insertAt", () => {
  it("inserts at the caret and puts the caret after the token", () => {
    expect(insertAt("Hello !", 6, 6, "{date}")).toEqual({ text: "Hello {date}!", caret: 12 });
  });
  it("replaces the selection", () => {
    expect(insertAt("Hi NAME, bye", 3, 7, "{contactfield=first_name}")).toEqual({
      text: "Hi {contactfield=first_name}, bye",
      caret: 28,
    });
  });
  it("appends when there is no caret, and clamps or orders odd positions", () => {
    expect(insertAt("abc", null, null, "X")).toEqual({ text: "abcX", caret: 4 });
    expect(insertAt("abc", 99, 120, "X")).toEqual({ text: "abcX", caret: 4 });
    expect(insertAt("abcdef", 4, 1, "X")).toEqual({ text: "aXef", caret: 2 });
  });
});

describe("tokensIn", () => {
  it("finds the tokens of a text in order", () => {
    expect(tokensIn("Hi {contactfield=first_name|there}, see {webview_url} on {date}. {notatoken}")).toEqual([
      "{contactfield=first_name|there}",
      "{webview_url}",
      "{date}",
    ]);
  });
});
