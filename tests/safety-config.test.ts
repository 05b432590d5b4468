/**
 * The safety service's config as the platform deploys it (the ConfigMap's config.yaml,
 * rendered by safetyServiceConfig from each committed stack), checked against the service's
 * own schema and against the models the gateway routes to. The platform cannot import the
 * service's code paths that need Node 26; the service's config schema is plain zod.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { LITELLM_ENVELOPE_BYTES, largestMaxModelLen, safetyLimits, safetyServiceConfig } from "../components/safety";
import { parsePlatformConfig, type PlatformConfig } from "../infra/config";
import { configSchema, resolveConfig } from "../services/safety/src/config";
import { DEFAULT_LIST_IDS } from "../services/safety/src/defaults";
import { STACKS } from "./support/stacks";
import { rawOf } from "./support/config";

const cfgOf = (stack: string): PlatformConfig => parsePlatformConfig(rawOf(stack), stack);
/** What the ConfigMap holds, read back as the service reads it. */
const renderedOf = (c: PlatformConfig): Record<string, any> => parseYaml(stringify(safetyServiceConfig(c.safety, c.models)));

/** A LiteLLM guardrail call for one user message of `text`: LiteLLM sends it twice. */
function litellmBody(text: string): string {
  return JSON.stringify({
    input_type: "request",
    texts: [text],
    structured_messages: [{ role: "user", content: text }],
    images: null,
    tools: null,
    tool_calls: null,
    request_data: { user_api_key_hash: "x".repeat(64), user_api_key_team_id: "team-1", metadata: { tags: ["a", "b"] } },
    request_headers: { "user-agent": "openai/python 1.99.0", "x-request-id": "r".repeat(36) },
    litellm_call_id: "c".repeat(36),
    litellm_trace_id: "t".repeat(36),
    litellm_version: "1.80.0",
    additional_provider_specific_params: {},
    model: "gpt-oss-120b",
  });
}

describe.each(STACKS)("stack %s: the safety config the platform deploys", (stack) => {
  const c = cfgOf(stack);
  const file = renderedOf(c);
  const parsed = configSchema.parse(file);

  it("is valid for the service's schema and resolves with the key from the environment", () => {
    const env = { AZURE_CONTENT_SAFETY_KEY: "k" };
    expect(() => resolveConfig(file, env)).not.toThrow();
    expect(JSON.stringify(file)).not.toMatch(/key"?\s*:/i);
  });

  it("enables every shipped default list and every local layer (prod no longer rests on Azure alone)", () => {
    // before: no lists, no patterns, and prompt injection on output only
    expect(parsed.layers.defaults).toEqual({ enabled: true, disable: [] });
    expect(DEFAULT_LIST_IDS).toEqual(expect.arrayContaining(["weapons", "self_harm", "prompt_injection", "secrets", "pii_us_ssn", "pii_card_number", "pii_iban"]));
    expect(parsed.layers.normalization.enabled).toBe(true);
    expect(parsed.layers.keywordBlocklist).toMatchObject({ enabled: true, appliesTo: ["input"] });
    expect(parsed.layers.regexBlocklist).toMatchObject({ enabled: true, appliesTo: ["input"] });
    expect(parsed.layers.promptInjection).toMatchObject({ enabled: true, appliesTo: ["input", "output"] });
  });

  it("derives the limits from the largest maxModelLen the gateway routes to", () => {
    const largest = Math.max(...Object.values(c.models).map((m) => m.maxModelLen));
    expect(largestMaxModelLen(c.models)).toBe(largest);
    const limits = safetyLimits(c.safety, c.models);
    expect(parsed.server.maxTextChars).toBe(largest * c.safety.charsPerToken);
    expect(parsed.server.bodyLimitBytes).toBe(limits.bodyLimitBytes);
    // before: a 64 KiB body limit, so any chat over about 8k tokens got 413
    expect(parsed.server.bodyLimitBytes).toBeGreaterThan(64 * 1024);
  });

  it("a prompt that fills the largest context fits both limits, sent twice by LiteLLM, even in 3-byte UTF-8", () => {
    const largest = largestMaxModelLen(c.models);
    // ordinary prose (~4 chars/token) and the allowance (charsPerToken), in CJK (3 bytes per char)
    for (const chars of [largest * 4, largest * c.safety.charsPerToken]) {
      const text = "文".repeat(chars);
      expect(text.length).toBeLessThanOrEqual(parsed.server.maxTextChars);
      expect(Buffer.byteLength(litellmBody(text), "utf8")).toBeLessThanOrEqual(parsed.server.bodyLimitBytes);
    }
    // and one character more than the allowance is the service's 413, not a silent pass
    expect(largest * c.safety.charsPerToken + 1).toBeGreaterThan(parsed.server.maxTextChars);
  });

  it("the service's body limit accepts what it derives (it stays under the service's own cap)", () => {
    expect(parsed.server.bodyLimitBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(parsed.server.bodyLimitBytes - 2 * 3 * parsed.server.maxTextChars).toBe(LITELLM_ENVELOPE_BYTES);
  });
});

describe("stack-level switches reach the rendered config", () => {
  it("safety.defaultLists.disable and charsPerToken", () => {
    const raw = rawOf("prod");
    raw.safety = { ...raw.safety, defaultLists: { disable: ["pii_iban"] }, charsPerToken: 6 };
    const c = parsePlatformConfig(raw, "prod");
    const parsed = configSchema.parse(renderedOf(c));
    expect(parsed.layers.defaults).toEqual({ enabled: true, disable: ["pii_iban"] });
    expect(parsed.server.maxTextChars).toBe(largestMaxModelLen(c.models) * 6);
  });

  it("an unknown default list id is caught by the service's schema", () => {
    const raw = rawOf("dev");
    raw.safety = { ...raw.safety, defaultLists: { disable: ["no_such_list"] } };
    const c = parsePlatformConfig(raw, "dev");
    expect(configSchema.safeParse(renderedOf(c)).success).toBe(false);
  });
});
