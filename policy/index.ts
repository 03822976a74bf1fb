/**
 * The policy pack's entry point, run by the Pulumi CLI (`pulumi preview --policy-pack policy`). It only wraps the
 * policies: they live in ./policies so that tests can call them without starting the pack's gRPC server.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("hello-service-guardrails", {
    description: "The platform's guardrails for hello-service: images by digest, restricted pods and namespaces, " +
        "resources, prod availability and exposure, no secrets in Helm values, pinned charts.",
    policies: [...POLICIES],
});
