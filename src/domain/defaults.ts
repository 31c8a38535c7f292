/** PySyft's default owner account: what a new domain starts with, and what the client warns about. */
export const DEFAULT_OWNER = { email: "info@openmined.org", password: "changethis", name: "Jane Doe" } as const;
