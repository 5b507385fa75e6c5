import { describe, expect, it } from "vitest";
import { formatSize, uploadBody } from "./api";

describe("uploadBody", () => {
  it("sends the file and the fields as multipart form fields", () => {
    const fd = uploadBody(new Blob(["%PDF-1.7"]), "paper.pdf", {
      name: "Paper",
      is_published: true,
      gate_form_id: 3,
      projects: [1, 2],
    });
    expect((fd.get("file") as File).name).toBe("paper.pdf");
    expect(fd.get("name")).toBe("Paper");
    expect(fd.get("is_published")).toBe("true");
    expect(fd.get("gate_form_id")).toBe("3");
    expect(fd.get("projects")).toBe("[1,2]");
    expect(fd.get("slug")).toBeNull();
  });
});

describe("formatSize", () => {
  it("rounds to a readable unit", () => {
    expect(formatSize(512)).toBe("512 B");
    expect(formatSize(1536)).toBe("1.5 KB");
    expect(formatSize(20 * 1024 * 1024)).toBe("20 MB");
  });
});
