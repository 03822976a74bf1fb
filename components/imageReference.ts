/**
 * What "an image by digest" means, in one place: the program deploys by it, the stack settings accept only it, and the
 * policy pack refuses anything else.
 */

/**
 * `<name>@sha256:<64 lowercase hex>`: an image reference that names its content. The name is the repository, with
 * or without a tag before the digest (`ghcr.io/acme/hello@sha256:...`, `golang:1.26.8@sha256:...`).
 */
export const IMAGE_BY_DIGEST = /^(?<name>[^\s@]+)@(?<digest>sha256:[0-9a-f]{64})$/;

/** The image to run, by digest. */
export interface ImageReference<T = string> {
    /** The repository, as the reference names it (a tag before the digest stays part of it). */
    readonly repository: string;
    /** `sha256:<64 hex>`. */
    readonly digest: T;
}

/** Splits `repo@sha256:...` into repository and digest; anything else is a programming error. */
export function parseImageRef(ref: string): ImageReference {
    const match = IMAGE_BY_DIGEST.exec(ref);
    if (!match?.groups) throw new Error(`expected an image reference by digest (repo@sha256:<64 hex>), got "${ref}"`);
    return { repository: match.groups.name, digest: match.groups.digest };
}
