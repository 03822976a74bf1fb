// Command embedgen writes the two files main.go embeds, from the provider module's cmd/pulumi-resource-kubernetes
// directory, as upstream's generate.go does at release time: the schema with its version set, and the Terraform
// mapping, both as compact JSON.
//
//	go run ./embedgen <module dir>/cmd/pulumi-resource-kubernetes <version> <output dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: embedgen SOURCE_DIR VERSION OUTPUT_DIR")
		os.Exit(2)
	}
	src, version, out := os.Args[1], os.Args[2], os.Args[3]
	if err := run(src, version, out); err != nil {
		fmt.Fprintln(os.Stderr, "embedgen:", err)
		os.Exit(1)
	}
}

func run(src, version, out string) error {
	var schema map[string]json.RawMessage
	if err := readJSON(filepath.Join(src, "schema.json"), &schema); err != nil {
		return err
	}
	v, err := json.Marshal(version)
	if err != nil {
		return err
	}
	schema["version"] = v
	if err := writeJSON(filepath.Join(out, "schema-embed.json"), schema); err != nil {
		return err
	}
	var mapping any
	if err := readJSON(filepath.Join(src, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, value any) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
