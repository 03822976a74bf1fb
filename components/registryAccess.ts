/**
 * Can the stack's registry be reached with the stack's credentials, before anything is deployed? A registry that is
 * down, or refuses the credentials, otherwise shows late and far from its cause: a push error after the other releases
 * were upgraded, or pods that cannot pull while Helm waits out its whole timeout. `pulumi up` asks first (never a
 * preview) and fails, naming the registry, before any resource changes.
 *
 * The Docker Registry HTTP API v2 (the distribution spec): `GET /v2/` for a build's push, `HEAD` of the manifest for an
 * image deployed by digest; Basic authentication, or a Bearer token from the registry's token service (ghcr.io,
 * Docker Hub) obtained with the credentials. Plain HTTP only for loopback registries, as Docker allows them.
 */

export interface RegistryAccess {
    /** `host[:port]`. */
    readonly server: string;
    /** The repository inside the registry, e.g. `acme/hello`. */
    readonly repository: string;
    /**
     * The image to deploy (`sha256:...`): it must exist and the credentials pull it.
     * @default only the credentials are checked (a build pushes); without credentials, only that the registry answers
     */
    readonly digest?: string;
    readonly username?: string;
    readonly password?: string;
    /** @default 10000 */
    readonly timeoutMs?: number;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** The registry's base URL: plain HTTP only on loopback. */
export function registryBaseUrl(server: string): string {
    return `${LOOPBACK.test(server) ? "http" : "https"}://${server}`;
}

/** `Bearer realm="...",service="...",scope="..."` into its parameters; undefined for another scheme. */
export function bearerChallenge(header: string | null): Record<string, string> | undefined {
    const m = /^Bearer\s+(.*)$/i.exec(header ?? "");
    if (!m) return undefined;
    return Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
}

const MANIFEST_TYPES = [
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Throws an error naming the registry and what it answered unless the registry accepts the request. */
export async function checkRegistryAccess(access: RegistryAccess): Promise<void> {
    const base = registryBaseUrl(access.server);
    const who = access.username ? `the credentials of ${access.username}` : "anonymous access";
    const target = access.digest ? `${access.repository}@${access.digest}` : access.repository;
    const timeout = access.timeoutMs ?? 10_000;
    const basic = access.username !== undefined && access.password !== undefined
        ? `Basic ${Buffer.from(`${access.username}:${access.password}`).toString("base64")}` : undefined;
    const url = access.digest ? `${base}/v2/${access.repository}/manifests/${access.digest}` : `${base}/v2/`;
    const request = async (authorization?: string) => {
        try {
            return await fetch(url, {
                method: access.digest ? "HEAD" : "GET",
                headers: { Accept: MANIFEST_TYPES, ...(authorization && { Authorization: authorization }) },
                signal: AbortSignal.timeout(timeout),
            });
        } catch (e) {
            const cause = (e as { cause?: { code?: string; message?: string } }).cause;
            throw new Error(`the registry ${access.server} cannot be reached (${cause?.code ?? cause?.message ?? (e as Error).message}): ` +
                "nothing was deployed. Check that it runs and that this machine can reach it.");
        }
    };

    let res = await request();
    // A build that pushes with the docker CLI's own login: this cannot see that login, only that the registry answers.
    if (!access.digest && !basic) return;
    if (res.status === 401) {
        const challenge = bearerChallenge(res.headers.get("www-authenticate"));
        if (challenge?.realm) {
            const tokenUrl = new URL(challenge.realm);
            if (challenge.service) tokenUrl.searchParams.set("service", challenge.service);
            tokenUrl.searchParams.set("scope", `repository:${access.repository}:${access.digest ? "pull" : "pull,push"}`);
            const tokenRes = await fetch(tokenUrl, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(timeout) })
                .catch(() => undefined);
            const body = tokenRes?.ok ? await tokenRes.json() as { token?: string; access_token?: string } : undefined;
            const token = body?.token ?? body?.access_token;
            if (token) res = await request(`Bearer ${token}`);
        } else if (basic) {
            res = await request(basic);
        }
    }
    if (res.ok) return;
    const why = res.status === 401 || res.status === 403
        ? `refused ${who} (HTTP ${res.status}): check registryUsername and the secret registryPassword`
        : res.status === 404 && access.digest
            ? `has no image ${target} (HTTP 404): check prebuiltImage`
            : `answered HTTP ${res.status} for ${target}`;
    throw new Error(`the registry ${access.server} ${why}; nothing was deployed`);
}
