// The kernel module: every exported function is a kernel (see README.md for the ABI).
export * from "./elementwise";
export * from "./matmul";
export * from "./attention";
