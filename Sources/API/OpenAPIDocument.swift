/// The OpenAPI 3.1 document (Sources/API/openapi.json, embedded in the binary at build time).
public enum OpenAPIDocument {
    public static var bytes: [UInt8] { PackageResources.openapi_json }
}
