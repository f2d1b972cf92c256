export { classifyBounce } from "./classify-bounce.ts";
export { ClassificationMemo, classifyBounceCached } from "./classify-memo.ts";
export * from "./taxonomy.ts";
