// API of the HTTP server/client. STUB: replaced by the real implementation.
import NIOCore
