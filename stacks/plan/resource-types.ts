/** Resource type tokens the plan tool's modules share (kept here so that none imports another for them). */
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
