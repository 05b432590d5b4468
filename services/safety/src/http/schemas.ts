/** JSON schemas for request validation (Ajv, no type coercion) and fast response serialization. */

export const moderateBodySchema = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: {
    text: { type: 'string' },
    context: { type: 'string' },
  },
} as const;

export interface ModerateBody {
  text: string;
  context?: string;
}

const layerSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    level: { type: 'string' },
    categories: { type: 'array', items: { type: 'string' } },
    confidence: { type: 'number' },
    explanation: { type: 'string' },
    latencyMs: { type: 'number' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

export const moderationResponseSchema = {
  type: 'object',
  properties: {
    requestId: { type: 'string' },
    direction: { type: 'string' },
    level: { type: 'string' },
    allowed: { type: 'boolean' },
    categories: { type: 'array', items: { type: 'string' } },
    confidence: { type: 'number' },
    explanation: { type: 'string' },
    layers: { type: 'array', items: layerSchema },
  },
} as const;

/**
 * LiteLLM Generic Guardrail API request (LiteLLM's GenericGuardrailAPIRequest,
 * litellm/types/proxy/guardrails/guardrail_hooks/generic_guardrail_api.py). LiteLLM
 * serialises it with pydantic's model_dump(), so absent optional fields arrive as
 * null. Only `input_type` is required here; unknown fields are accepted and ignored
 * so that newer LiteLLM versions keep working.
 */
export const litellmBodySchema = {
  type: 'object',
  required: ['input_type'],
  additionalProperties: true,
  properties: {
    input_type: { type: 'string', enum: ['request', 'response'] },
    texts: { type: ['array', 'null'], items: { type: 'string' } },
    images: { type: ['array', 'null'], items: { type: 'string' } },
    tools: { type: ['array', 'null'] },
    tool_calls: { type: ['array', 'null'] },
    structured_messages: { type: ['array', 'null'] },
    request_data: { type: ['object', 'null'] },
    request_headers: { type: ['object', 'null'] },
    additional_provider_specific_params: { type: ['object', 'null'] },
    litellm_call_id: { type: ['string', 'null'] },
    litellm_trace_id: { type: ['string', 'null'] },
    litellm_version: { type: ['string', 'null'] },
    model: { type: ['string', 'null'] },
  },
} as const;

export interface LitellmBody {
  input_type: 'request' | 'response';
  texts?: string[] | null;
  images?: string[] | null;
  litellm_call_id?: string | null;
  litellm_trace_id?: string | null;
  [key: string]: unknown;
}

/** LiteLLM's GenericGuardrailAPIResponse: action BLOCKED | NONE | GUARDRAIL_INTERVENED. */
export const litellmResponseSchema = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { type: 'string', enum: ['BLOCKED', 'NONE', 'GUARDRAIL_INTERVENED'] },
    blocked_reason: { type: 'string' },
    texts: { type: 'array', items: { type: 'string' } },
    images: { type: 'array', items: { type: 'string' } },
  },
} as const;

export interface LitellmResponse {
  action: 'BLOCKED' | 'NONE' | 'GUARDRAIL_INTERVENED';
  blocked_reason?: string;
  texts?: string[];
  images?: string[];
}

export const errorResponseSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;
