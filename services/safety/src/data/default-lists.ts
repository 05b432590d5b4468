/**
 * The shipped default lists of the local layers: versioned data, validated by src/defaults.ts
 * when the service starts. (A .ts module rather than JSON, so that it needs no import
 * attributes in any of the TypeScript projects that read the service's config schema.)
 */
const DEFAULT_LISTS_DATA: unknown = {
  "version": "2026.12.0",
  "description": "Default lists of the safety service's local layers. Term syntax: words separated by spaces; 'a|b' alternatives; '+' joins words inside an alternative ('best+way'); a trailing '?' makes a word optional; the last word also matches its plural; terms are normalized (see src/normalize.ts), so write them in plain lower-case English. Change a list: bump version and run the evasion and benign corpora (test/corpus.test.ts).",
  "lists": [
    {
      "id": "weapons",
      "kind": "keyword",
      "category": "weapons",
      "level": "blocked",
      "terms": [
        "pipe bomb",
        "nail bomb",
        "pressure cooker bomb",
        "molotov cocktail",
        "improvised explosive device",
        "make|build|assemble|construct|making|building a|an|the? homemade|home+made|improvised|simple|powerful? bomb|explosive|grenade|detonator|ied",
        "homemade|home+made explosive|napalm|grenade|detonator|thermite",
        "make|making|produce|cook|mix|synthesize|synthesise tatp|rdx|petn|hmtd|napalm|nitroglycerin",
        "synthesize|synthesise|make|produce|weaponize|weaponise sarin|tabun|soman|vx+nerve+agent|novichok|ricin|abrin|anthrax|botulinum+toxin",
        "weaponize|weaponise a? pathogen|virus|anthrax|smallpox|bird+flu",
        "nerve agent synthesis",
        "make|making chlorine|mustard|phosgene gas at home",
        "3d print|printed|printing a? gun|firearm|pistol|rifle|glock|lower+receiver",
        "ghost gun",
        "untraceable gun|firearm|pistol",
        "auto sear",
        "glock switch",
        "convert|converting a|an? ar15|rifle|glock|pistol to full+auto|fully+automatic",
        "solvent trap suppressor",
        "blasting cap from",
        "detonator circuit"
      ]
    },
    {
      "id": "self_harm",
      "kind": "keyword",
      "category": "self_harm",
      "level": "blocked",
      "terms": [
        "how|ways|way|best+way|easiest+way|quickest+way|painless+way|method|methods to kill|hang|hurt|poison|drown|shoot|cut|starve myself",
        "how|ways|way|best+way|easiest+way|quickest+way|painless+way to commit|do suicide",
        "how|way|ways|best+way|easiest+way|painless+way to end my own? life",
        "painless|quick|easy|best|effective suicide method|methods|technique",
        "suicide method|methods",
        "how many pills to die|overdose|kill+myself",
        "lethal dose to kill myself",
        "overdose on purpose",
        "how deep to cut my|your? wrist",
        "slit my wrist",
        "best way to die painlessly",
        "help me kill myself",
        "tips for|on self+harm|selfharm|self+harming|cutting+myself",
        "hide self+harm? scars|cuts from my parents"
      ]
    },
    {
      "id": "prompt_injection",
      "kind": "injection",
      "category": "injection",
      "level": "blocked",
      "terms": [
        "ignore|disregard|forget|override|skip all? of? the|your|any? previous|prior|above|earlier|preceding|former|original instructions|directions|rules|prompts|guidelines|commands",
        "ignore|disregard|forget|bypass|override your instructions|guidelines|rules|programming|system+prompt|safety+guidelines|content+policy",
        "ignore|disregard the system prompt",
        "reveal|print|show|display|repeat|output|leak|dump your|the? system+prompt|hidden+prompt|initial+prompt|secret+instructions|hidden+instructions",
        "reveal|print|repeat|leak|dump your instructions",
        "what is|was your system prompt",
        "you are now dan|jailbroken|unrestricted|unfiltered|uncensored",
        "you are now in developer|jailbreak|god|dan mode",
        "do anything now",
        "developer mode enabled|activated",
        "enable|activate|enter developer|jailbreak|dan|god mode",
        "pretend|act|behave as if? you have no restrictions|filters|guidelines|rules|limits",
        "you have no restrictions|filters|guidelines|content+policy",
        "without any ethical|moral|safety restrictions|guidelines|filters",
        "this is a jailbreak",
        "jailbreak prompt",
        "system override",
        "new system prompt"
      ]
    },
    {
      "id": "secrets",
      "kind": "regex",
      "category": "secrets",
      "level": "blocked",
      "patterns": [
        {
          "name": "private_key",
          "pattern": "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
          "flags": ""
        },
        {
          "name": "aws_access_key_id",
          "pattern": "(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])",
          "flags": ""
        },
        {
          "name": "aws_secret_access_key",
          "pattern": "aws_?secret_?access_?key[\"'\\s:=]{1,6}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
          "flags": "i"
        },
        {
          "name": "github_token",
          "pattern": "(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
          "flags": ""
        },
        {
          "name": "slack_token",
          "pattern": "(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}",
          "flags": ""
        },
        {
          "name": "google_api_key",
          "pattern": "(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])",
          "flags": ""
        },
        {
          "name": "stripe_secret_key",
          "pattern": "(?<![A-Za-z0-9])[rs]k_live_[0-9A-Za-z]{20,}",
          "flags": ""
        },
        {
          "name": "openai_api_key",
          "pattern": "(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{8,}T3BlbkFJ[A-Za-z0-9_-]{8,}",
          "flags": ""
        },
        {
          "name": "azure_storage_account_key",
          "pattern": "AccountKey=[A-Za-z0-9+/]{86}==",
          "flags": ""
        },
        {
          "name": "gcp_service_account_key",
          "pattern": "\"private_key_id\"\\s*:\\s*\"[0-9a-f]{40}\"",
          "flags": ""
        }
      ]
    },
    {
      "id": "pii_us_ssn",
      "kind": "regex",
      "category": "pii",
      "level": "blocked",
      "patterns": [
        {
          "name": "us_ssn",
          "pattern": "(?<![0-9])[0-9]{3}([-\\s.])[0-9]{2}\\1[0-9]{4}(?![0-9])",
          "flags": "",
          "validator": "us_ssn"
        }
      ]
    },
    {
      "id": "pii_card_number",
      "kind": "regex",
      "category": "pii",
      "level": "blocked",
      "patterns": [
        {
          "name": "card_number",
          "pattern": "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])",
          "flags": "",
          "validator": "card_luhn"
        }
      ]
    },
    {
      "id": "pii_iban",
      "kind": "regex",
      "category": "pii",
      "level": "blocked",
      "patterns": [
        {
          "name": "iban",
          "pattern": "(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
          "flags": "",
          "validator": "iban_mod97"
        }
      ]
    },
    {
      "id": "chat_template_injection",
      "kind": "regex",
      "category": "injection",
      "level": "blocked",
      "appliesTo": [
        "input",
        "output"
      ],
      "patterns": [
        {
          "name": "chat_template_tokens",
          "pattern": "<\\|(?:im_start|im_end|endoftext|start|end|system|channel|message|return|call|constrain)\\|>",
          "flags": ""
        }
      ]
    }
  ]
};

export default DEFAULT_LISTS_DATA;
