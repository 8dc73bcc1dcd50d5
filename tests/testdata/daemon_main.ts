// A whole program: the main thread starts a daemon child that never ends and a non-daemon
// child that prints after a while, then returns. Python's rules: the program waits for
// the non-daemon child and stops the daemon one.
import { Process } from "../../process/mod.ts";
import { Box } from "./box.ts";

const tasks = new URL("./tasks.ts", import.meta.url).href;
new Process({ target: { module: tasks, name: "block" }, args: [new Box()], daemon: true }).start();
new Process({ target: { module: tasks, name: "printLater" }, args: [300, "non-daemon child done"] }).start();
console.log("main returned");
