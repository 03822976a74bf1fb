/**
 * A process that owns a local cluster with a real node, for the specs of what happens when such a process is
 * interrupted or killed: it starts the cluster, runs a pod on it, prints one JSON line (`{"ready": ...}`) and waits to
 * be signalled. Run as `node -r ts-node/register/transpile-only clusterChild.ts <bin>`.
 */
import { startCluster } from "../../../localcluster";
import { runTestPod } from "./testPod";

async function main() {
    const bin = process.argv[2];
    const cluster = await startCluster({ bin, node: "real", purpose: "an interrupted-run spec's child process" });
    await runTestPod(cluster);
    process.stdout.write(`${JSON.stringify({ ready: cluster.dir, pid: process.pid })}\n`);
    setInterval(() => undefined, 60_000);
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
