// A program whose NATS logins are refused ten times in a row (a wrong password); each refusal must reject with
// "authentication failed" and none may surface later as an uncaught error. Prints "refused 10" and ends normally.
// Usage: nats_refused_script.ts URL USER PASSWORD

import process from "node:process";
import { openConnection } from "../../src/nats/connection.ts";

const [url, user, pass] = process.argv.slice(process.argv.length - 3);
let refused = 0;
for (let i = 0; i < 10; i++) {
  try {
    await openConnection({ servers: url, user, pass }, { reconnect: false });
  } catch (error) {
    if (/^authentication failed: /.test((error as Error).message)) refused++;
    else console.error(`unexpected error: ${(error as Error).message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
// A late error on a refused connection's socket would end the program during this pause.
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(`refused ${refused}`);
