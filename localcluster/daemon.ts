/**
 * The process that owns a local cluster in the background (`npm run dev`'s, until `npm run dev:down`): started
 * detached by background.ts, it starts the cluster with a real node and a registry without a login on the address the
 * dev stack names (e.g. localhost:5001), records where they are in the machine's node lock, and then waits for
 * `POST /stop` on its control socket, which stops both and answers with what could not be put back.
 *
 * Everything it runs lives under the cluster's folder and names it on its command line, so that when this process is
 * killed, the next start (machineLock.ts) finds and removes the registry with the node's other leftovers.
 *
 * Run as `node -r ts-node/register/transpile-only localcluster/daemon.ts '<BackgroundOptions as JSON>'`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { Registry, startOpenRegistry } from "../scripts/lib/images";
import { BackgroundOptions, BackgroundDetails, backgroundPurpose } from "./background";
import { startCluster } from "./index";

function log(line: string): void {
    process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<void> {
    const opts = JSON.parse(process.argv[2]) as BackgroundOptions;
    const cluster = await startCluster({ bin: opts.bin, node: "real", purpose: backgroundPurpose(opts), context: opts.context, log });
    let registry: Registry | undefined;
    try {
        const dir = path.join(cluster.dir, "background");
        fs.mkdirSync(dir, { mode: 0o700 });
        // Loopback only: the node's containerd, BuildKit and Docker on this machine push and pull; nothing else may.
        registry = await startOpenRegistry(`127.0.0.1:${opts.registry.split(":")[1]}`, path.join(dir, "registry"));
        const control = path.join(dir, "control.sock");
        const stop = async (): Promise<string[]> => {
            const problems: string[] = [];
            await registry?.stop().catch((e: Error) => problems.push(`the registry: ${e.message}`));
            await cluster.stop().catch((e: Error) => problems.push(e.message));
            return problems;
        };
        const server = http.createServer((req, res) => {
            if (req.method !== "POST" || req.url !== "/stop") {
                res.writeHead(404).end();
                return;
            }
            log("asked to stop");
            void stop().then((problems) => {
                for (const p of problems) log(p);
                res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ problems }), () => process.exit(0));
            });
        });
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(control, resolve));
        fs.chmodSync(control, 0o600);
        const details: BackgroundDetails = {
            owner: opts.owner, checkout: opts.checkout, kubeconfig: cluster.kubeconfig, context: cluster.context,
            registry: opts.registry, control, nodeAddress: cluster.node.address,
        };
        cluster.describe({ ...details });
        log(`ready: kubeconfig ${cluster.kubeconfig}, registry ${opts.registry}`);
    } catch (e) {
        log(`could not start: ${(e as Error).message}`);
        await registry?.stop().catch(() => undefined);
        await cluster.stop().catch((err: Error) => log(err.message));
        process.exit(1);
    }
}

main().catch((e: Error) => {
    log(`could not start: ${e.message}`);
    process.exit(1);
});
