// The raw NATS baseline's worker process: answers requests on one subject, in a queue group, with the
// benchmark's task (`inc`) applied to the JSON number it gets. Arguments: the server URL and the subject.

import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { inc } from "../tasks.ts";

const [servers, subject] = process.argv.slice(2);
const nc = await connect({ servers });
nc.subscribe(subject, {
  queue: "raw",
  callback: (_error, msg) => {
    msg.respond(JSON.stringify(inc(JSON.parse(new TextDecoder().decode(msg.data)) as number)));
  },
});
await nc.flush();
console.log("raw echo ready");
