/**
 * Credentials of a grid: keys, certificates, tokens, proofs and node
 * identities. See docs/security.md.
 */
export * from "./credentials";
export * from "./identity";
export * from "./keys";
export * from "./proofs";
export * from "./handshake";
export * from "./credentials-file";
export * from "./gateway-proofs";
