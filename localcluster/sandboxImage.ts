/**
 * The sandbox (pause) image every pod starts with. No registry can be pulled from here, so the node makes its own:
 * localcluster/pause (a static Go program) in an image FROM scratch, written as an OCI image layout and imported into
 * the node's containerd, where its sandbox_image setting names it.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { runOk } from "../scripts/lib/process";
import { tarBuffer } from "../scripts/lib/tar";

export const SANDBOX_IMAGE = "localhost/hello-localcluster/pause:local";

const digest = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Builds the pause program and writes the image as an OCI layout tar at `out`. */
export async function buildSandboxImage(workDir: string, out: string): Promise<void> {
    const binary = path.join(workDir, "pause");
    await runOk("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", binary, "./main.go"], {
        cwd: path.join(__dirname, "pause"),
        env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-trimpath -buildvcs=false" },
    });
    const layer = tarBuffer([{ name: "pause", type: "file", mode: 0o755, content: { fromPath: binary } }]);
    const config = Buffer.from(JSON.stringify({
        architecture: "amd64", os: "linux",
        config: { Entrypoint: ["/pause"], User: "65535:65535" },
        rootfs: { type: "layers", diff_ids: [digest(layer)] },
    }));
    const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digest(config), size: config.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digest(layer), size: layer.length }],
    }));
    const index = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        manifests: [{
            mediaType: "application/vnd.oci.image.manifest.v1+json", digest: digest(manifest), size: manifest.length,
            annotations: { "io.containerd.image.name": SANDBOX_IMAGE, "org.opencontainers.image.ref.name": "local" },
        }],
    }));
    const blob = (b: Buffer) => ({ name: `blobs/sha256/${digest(b).slice(7)}`, type: "file" as const, mode: 0o644, content: b });
    fs.writeFileSync(out, tarBuffer([
        { name: "oci-layout", type: "file", mode: 0o644, content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
        { name: "index.json", type: "file", mode: 0o644, content: index },
        { name: "blobs", type: "dir", mode: 0o755 },
        { name: "blobs/sha256", type: "dir", mode: 0o755 },
        blob(layer), blob(config), blob(manifest),
    ]));
}
