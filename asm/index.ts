// The kernel module: every exported function is a kernel (see README.md for the ABI).
export * from "./elementwise";
export * from "./norms";
export * from "./losses";
export * from "./embedding";
export * from "./optim";
export * from "./matmul";
export * from "./attention";
export * from "./rope";
