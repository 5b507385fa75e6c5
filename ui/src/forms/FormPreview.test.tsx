// @vitest-environment jsdom
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { FormPreview } from "./FormPreview";
import type { FormField } from "./types";

afterEach(cleanup);

const base = {
  contact_field: null,
  required: false,
  default: null,
  placeholder: "",
  help: "",
  options: [],
  consent_text: null,
  validation: { min_length: null, max_length: null, min: null, max: null, pattern: null },
};
const f = (over: Partial<FormField> & Pick<FormField, "key" | "type" | "name" | "label">): FormField => ({
  ...base,
  ...over,
});
const options = [
  { label: "Red", value: "r" },
  { label: "Blue", value: "b" },
];

describe("FormPreview", () => {
  it("renders each field type as the visitor's input", () => {
    const { container } = render(
      <FormPreview
        fields={[
          f({
            key: "1",
            type: "text",
            name: "first_name",
            label: "First name",
            placeholder: "Ada",
            validation: { ...base.validation, max_length: 20, pattern: "[A-Za-z]+" },
          }),
          f({ key: "2", type: "email", name: "email", label: "Email", required: true, help: "We never share it." }),
          f({ key: "3", type: "textarea", name: "message", label: "Message" }),
          f({
            key: "4",
            type: "number",
            name: "age",
            label: "Age",
            validation: { ...base.validation, min: 18, max: 99 },
          }),
          f({ key: "5", type: "date", name: "born", label: "Born", default: "2000-01-31" }),
          f({ key: "6", type: "select", name: "colour", label: "Colour", options, default: "b" }),
          f({ key: "7", type: "radio", name: "size", label: "Size", options }),
          f({ key: "8", type: "checkbox_group", name: "likes", label: "Likes", options, default: ["r"] }),
          f({ key: "9", type: "hidden", name: "source", label: "Source", default: "ad" }),
          f({
            key: "10",
            type: "consent",
            name: "consent",
            label: "Consent",
            required: true,
            consent_text: "I agree to emails.",
          }),
        ]}
      />,
    );
    const text = screen.getByLabelText<HTMLInputElement>("First name");
    expect(text.type).toBe("text");
    expect(text.placeholder).toBe("Ada");
    expect(text.maxLength).toBe(20);
    expect(text.pattern).toBe("[A-Za-z]+");
    const email = screen.getByLabelText<HTMLInputElement>(/^Email/);
    expect(email.type).toBe("email");
    expect(email.required).toBe(true);
    expect(email.getAttribute("aria-describedby")).toBeTruthy();
    expect(screen.getByText("We never share it.")).toBeTruthy();
    expect(screen.getByLabelText("Message").tagName).toBe("TEXTAREA");
    const age = screen.getByLabelText<HTMLInputElement>("Age");
    expect([age.type, age.min, age.max]).toEqual(["number", "18", "99"]);
    expect(screen.getByLabelText<HTMLInputElement>("Born").value).toBe("2000-01-31");
    const colour = screen.getByLabelText<HTMLSelectElement>("Colour");
    expect(colour.value).toBe("b");
    expect(Array.from(colour.options).map((o) => o.text)).toEqual(["Choose…", "Red", "Blue"]);
    const size = screen.getByRole("group", { name: "Size" });
    expect(within(size).getAllByRole("radio")).toHaveLength(2);
    const likes = screen.getByRole("group", { name: "Likes" });
    const boxes = within(likes).getAllByRole<HTMLInputElement>("checkbox");
    expect(boxes.map((b) => b.checked)).toEqual([true, false]);
    const hidden = container.querySelector('input[type="hidden"][name="source"]') as HTMLInputElement;
    expect(hidden.value).toBe("ad");
    expect(screen.queryByText("Source")).toBeNull();
    expect(screen.getByText(/Also sent, not shown: source/)).toBeTruthy();
    const consent = screen.getByLabelText<HTMLInputElement>(/I agree to emails\./);
    expect([consent.type, consent.required]).toEqual(["checkbox", true]);
    expect(screen.getByRole("button", { name: "Submit" })).toBeTruthy();
  });

  it("shows markup typed into labels as text", () => {
    const { container } = render(
      <FormPreview
        fields={[f({ key: "1", type: "text", name: "x", label: "<b>bold</b><script>alert(1)</script>" })]}
      />,
    );
    expect(screen.getByText("<b>bold</b><script>alert(1)</script>")).toBeTruthy();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
  });

  it("invites to add a field when there is none", () => {
    render(<FormPreview fields={[]} />);
    expect(screen.getByText("Add a field to see the form.")).toBeTruthy();
  });
});
