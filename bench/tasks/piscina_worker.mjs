// piscina and tinypool call the default export, or the export named in `run(x, { name })`.
export * from "./task.mjs";
export { default } from "./task.mjs";
