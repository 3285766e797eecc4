// Checks for free text from clients (names, emails): what a person could type, counted the way the
// OpenAPI document counts. JSON Schema's maxLength counts code points, JavaScript's `length`
// UTF-16 units, so a name of emoji would be refused at half its documented length without this.
import { Schema } from "effect"

// C0 controls and NUL, DEL, C1 controls (U+0085 too), unpaired surrogates (in a `u` pattern a
// class of surrogates matches only lone ones) and the bidi overrides and isolates, which make
// text display other than it is stored (U+202E).
const forbiddenClass = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff"
const forbidden = new RegExp(`[${forbiddenClass}]`, "u")
// The document's pattern leaves the surrogates out: regular expression engines outside JavaScript
// (Rust's, which schemathesis validates with, Go's) cannot compile a surrogate range and drop the
// whole pattern, so they would allow controls too. Their strings cannot hold a lone surrogate anyway.
const documentedClass = forbiddenClass.replace("\\ud800-\\udfff", "")

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`

/** No control characters, lone surrogates or bidi controls; the message names the first one found. */
export const isPlainText = (what: string) =>
  Schema.makeFilter<string>((text) => {
    const found = forbidden.exec(text)
    return found === null || `${what} must not contain ${codePoint(found[0])} (control characters, unpaired surrogates and bidirectional overrides are refused)`
  }, {
    expected: "text without control characters, unpaired surrogates or bidirectional overrides",
    toJsonSchema: () => ({ pattern: `^[^${documentedClass}]*$` }),
  })

/** At most `max` code points, as JSON Schema's maxLength counts. */
export const isMaxCodePoints = (max: number, what: string) =>
  Schema.makeFilter<string>((text) => text.length <= max || [...text].length <= max || `${what} must be at most ${max} characters`, {
    expected: `at most ${max} characters (code points)`,
    toJsonSchema: () => ({ maxLength: max }),
  })
