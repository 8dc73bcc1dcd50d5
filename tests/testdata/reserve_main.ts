// A whole program with a warm worker reserve: it starts a non-daemon child from the
// reserve, which must keep the program alive until it has printed, while the reserve
// workers (refilled after the take) must not.
import { Process, setReserve, warmReserve } from "../../process/mod.ts";

setReserve(2);
if (!(await warmReserve({ timeout: 20_000 }))) throw new Error("the reserve did not warm up");
const tasks = new URL("./tasks.ts", import.meta.url).href;
new Process({ target: { module: tasks, name: "printLater" }, args: [200, "child done"] }).start();
console.log("main returned");
