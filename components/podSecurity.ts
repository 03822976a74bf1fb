/**
 * Pod Security Standards as this project applies them to namespaces: plain data, shared by the program
 * (`namespace.ts`) and the policy pack, which loads it in every preview without loading the Pulumi SDKs.
 */

/** Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * Labels that make the API server enforce `enforce` and audit and warn at `restricted`, so anything
 * weaker than restricted at least shows up in `kubectl` warnings and audit logs.
 */
export function podSecurityLabels(enforce: PodSecurityLevel): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    };
}

/** Annotation that says why a namespace enforces less than restricted; policy requires it. */
export const POD_SECURITY_EXEMPTION = "hello.platform/pod-security-exemption";
