// Process targets for the Manager figures: each gets a dict proxy (a live library object
// revived from args), so this module imports nothing from the library.
import { finish, ready } from "./ctl.mjs";

/**
 * `n` set + get round trips on its own key, with the blocking forms a worker may use,
 * after `n` untimed ones: a fresh worker runs its first calls in unoptimized code, and
 * the figure is the rate once warm, as every other figure is timed after a warm-up.
 */
export function dictOps(d, key, sab, n) {
  const ctl = new Int32Array(sab, 0, 8);
  setGet(d, key, n);
  ready(ctl);
  setGet(d, key, n);
  finish(ctl);
}

function setGet(d, key, n) {
  for (let i = 0; i < n; i++) {
    d.setSync(key, i);
    d.getSync(key);
  }
}
