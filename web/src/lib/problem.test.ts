import { describe, expect, it } from "vitest";
import { fieldErrors, toProblem } from "./problem";

describe("problems", () => {
  it("reads problem+json with field errors", () => {
    const p = toProblem(
      400,
      {
        type: "https://mrmrthon.dev/problems/validation",
        title: "Invalid request",
        status: 400,
        detail: "2 fields",
        errors: [
          { field: "email", message: "must be an email" },
          { field: "email", message: "is taken" },
          { field: "name", message: "is required" },
          { nonsense: true },
        ],
      },
      "Error",
    );
    expect(p.title).toBe("Invalid request");
    expect(p.detail).toBe("2 fields");
    expect(p.errors).toHaveLength(3);
    expect(fieldErrors(p)).toEqual({ email: "must be an email is taken", name: "is required" });
  });
  it("turns a gateway's message or no body into a titled problem", () => {
    expect(toProblem(404, { message: "Not Found" }, "Error 404")).toEqual({
      status: 404,
      title: "Error 404",
      detail: "Not Found",
      errors: [],
    });
    expect(toProblem(502, undefined, "Error 502").title).toBe("Error 502");
    expect(fieldErrors(null)).toEqual({});
  });
});
