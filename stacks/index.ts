// Entry point for the Pulumi CLI (Pulumi.yaml `main`). The returned object becomes the stack outputs.
import { program } from "./program";

export = program;
