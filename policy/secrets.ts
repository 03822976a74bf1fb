/**
 * Finds secrets in Helm values. Whatever a release's values hold, Helm stores in plaintext in the cluster (the
 * release Secret) and Pulumi in the stack's state, and anyone with `helm get values` reads it: a credential belongs
 * in a Kubernetes Secret that the values only name (`existingSecret`, `configSecret`, `secretName`, ...).
 *
 * A policy cannot tell a Pulumi secret from a plain string: the engine hands policies secret inputs already
 * unwrapped (@pulumi/policy deserializes them to their plaintext). So the scan judges by name and by shape:
 * - a key that names a credential (password, token, apiKey, webhook URL, ...) holding a literal string;
 * - such a key holding a value only known at deploy time (an Output, most likely a generated or secret one);
 * - any string that looks like a credential wherever it is (a URL with a password, a private key, a known token
 *   format, a chat webhook URL).
 * Findings name the path, never the value.
 */

export interface SecretFinding {
    /** Where in the values, e.g. `grafana.adminPassword` or `alertmanager.config.receivers[0].webhook_configs[0].url`. */
    readonly path: string;
    readonly reason: string;
}

/** Lowercased, without `-`, `_` and `.`: `api_key`, `apiKey` and `API-KEY` compare alike. */
function normalize(key: string): string {
    return key.toLowerCase().replace(/[-_.]/g, "");
}

/** Key fragments that name a credential. */
const SECRET_KEY_PARTS = [
    "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey", "privatekey", "credential",
    "webhookurl", "slackapiurl", "routingkey", "servicekey", "authkey", "signingkey", "encryptionkey", "bearer",
    "htpasswd", "connectionstring", "dsn",
];

/**
 * Keys that hold a reference to a secret rather than the secret itself: the name of a Secret, the key inside it,
 * a file path, a switch.
 */
function isReferenceKey(key: string): boolean {
    const k = normalize(key);
    return k.startsWith("existing") || k.startsWith("use") ||
        /(name|names|ref|file|path|dir|enabled|create|mount|mountpath)$/.test(k) ||
        /^(admin)?(user|username|password|token|tls|cert|ca)key$/.test(k) ||
        k === "configsecret" || k === "secrets";
}

/** Whether a key names a credential (and is not a reference to one). */
export function isSecretKey(key: string): boolean {
    if (isReferenceKey(key)) return false;
    const k = normalize(key);
    return SECRET_KEY_PARTS.some((part) => k.includes(part));
}

/** Values that are credentials whatever their key is called. */
const SECRET_VALUES: readonly (readonly [RegExp, string])[] = [
    [/-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/, "a private key"],
    // Anywhere in a value (an argument, a config file, a JDBC URL): the scheme's last character starts the match.
    [/[a-z0-9+.-]:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a password in it"],
    [/[?&](token|access_token|api[-_]?key|key|secret|sig|signature|password|auth|x-amz-signature|x-goog-signature)=[^&\s]{8,}/i, "a URL with a credential in its query"],
    [/hooks\.slack\.com\/services\/|discord(app)?\.com\/api\/webhooks\/|\.webhook\.office\.com\//i, "a chat webhook URL (its path is the credential)"],
    [/\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|sk_live_[A-Za-z0-9]{20,}|AIza[0-9A-Za-z_-]{35})\b/, "an access token"],
    [/\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./, "a JSON web token"],
];

/** Is `value` one of the engine's markers for a value not known until deploy time? */
export type UnknownTest = (value: unknown) => boolean;

/** Every secret in `values`, with the path where it is. `isUnknown` recognises values not known during a preview. */
export function findSecrets(values: unknown, isUnknown: UnknownTest = () => false): SecretFinding[] {
    const findings: SecretFinding[] = [];
    const visit = (node: unknown, path: string, key: string | undefined, secretContext: boolean) => {
        if (isUnknown(node)) {
            if (key !== undefined && (isSecretKey(key) || secretContext)) {
                findings.push({ path, reason: "holds a value computed at deploy time (an Output, likely a secret) under a key that names a credential" });
            }
            return;
        }
        if (typeof node === "string") {
            if (node === "") return;
            if (key !== undefined && (isSecretKey(key) || secretContext)) {
                findings.push({ path, reason: "holds a literal value under a key that names a credential" });
                return;
            }
            const shape = SECRET_VALUES.find(([pattern]) => pattern.test(node));
            if (shape) findings.push({ path, reason: `holds ${shape[1]}` });
            return;
        }
        if (Array.isArray(node)) {
            node.forEach((item, i) => visit(item, `${path}[${i}]`, key, secretContext));
            return;
        }
        if (node && typeof node === "object") {
            const obj = node as Record<string, unknown>;
            // `{name: DB_PASSWORD, value: ...}` (an env entry): the name says what the value is.
            const namedSecret = typeof obj.name === "string" && isSecretKey(obj.name);
            // A URL inside a webhook receiver is the credential (`webhook_configs[].url`).
            const webhook = key !== undefined && /webhook/i.test(key);
            for (const [k, v] of Object.entries(obj)) {
                const child = path ? `${path}.${k}` : k;
                const inSecret = (namedSecret && k === "value") || (webhook && normalize(k) === "url");
                visit(v, child, k, inSecret);
            }
        }
    };
    visit(values, "", undefined, false);
    return findings;
}
