/** Set by the bundler (and by Vitest) from package.json, so the bundles do not embed the file. */
declare const __PINLINE_VERSION__: string | undefined;

export const PINLINE_VERSION: string =
  typeof __PINLINE_VERSION__ === "string" ? __PINLINE_VERSION__ : "0.0.0-development";
