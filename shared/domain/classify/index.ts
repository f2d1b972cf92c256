export { classifyBounce } from "./classify-bounce.ts";
export * from "./taxonomy.ts";
