// ESLint flat config: typescript-eslint's type-aware recommended rules over the program, policies and tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** A lint rule for one floor: relative imports into the folders above it (or beside it) are errors. */
function floor(files, forbidden, message) {
  const group = forbidden.flatMap((d) => [`../${d}`, `../${d}/**`, `../../${d}`, `../../${d}/**`, `../../../${d}/**`, `../../../../${d}/**`]);
  return [{ files: [files], rules: { "no-restricted-imports": ["error", { patterns: [{ group, message }] }] } }];
}

export default tseslint.config(
  { ignores: ["node_modules/**", "out/**", "services/**", "**/dist/**", "coverage/**", "scratch/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "Literal[value=/:latest$/]", message: "Pin versions in infra/catalog/versions.ts; never use :latest." },
      ],
    },
  },
  // Floors: imports only go downward. infra/ is the ground (config, catalogs, cost model, the
  // stateful types) and imports nothing else of ours; components/ build on infra/; the policy
  // pack uses only the ground, through the package it declares (policies/package.json); stacks/
  // (the composition root and the offline plan tool) is the roof and may import anything.
  ...floor("infra/**/*.ts", ["components", "stacks", "policies", "tests", "services"], "infra/ is the ground floor: it imports nothing else of ours"),
  ...floor("components/**/*.ts", ["stacks", "policies", "tests", "services"], "components/ import only infra/ and each other"),
  ...floor("policies/**/*.ts", ["components", "stacks", "tests", "services", "infra"], "the policy pack imports the ground floor only through its declared dependency llm-platform-infra (policies/package.json), so that it publishes on its own"),
  {
    // Tests poke at untyped config maps and recorded resource inputs on purpose, and check
    // that ":latest" is rejected.
    files: ["tests/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "no-restricted-syntax": "off",
    },
  },
  {
    files: ["**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
