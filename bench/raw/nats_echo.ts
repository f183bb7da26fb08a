// The raw NATS baseline's worker process: answers requests on one subject, in a queue group, with the
// benchmark's task (`inc`) applied to the JSON number it gets. Arguments: the server URL and the subject.

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { inc } from "../tasks.ts";

const [servers, subject] = process.argv.slice(2);
const nc = await connect({ servers });
const decoder = new TextDecoder();
nc.subscribe(subject, {
  queue: "raw",
  // The request is `[id, x]`, the answer `[id, inc(x)]`: the caller matches answers to requests by id.
  callback: (_error, msg) => {
    const [id, x] = JSON.parse(decoder.decode(msg.data)) as [number, number];
    msg.respond(JSON.stringify([id, inc(x)]));
  },
});
await nc.flush();
console.log("raw echo ready");
