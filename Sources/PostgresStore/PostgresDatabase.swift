import Foundation
import Logging
import NIOCore
import NIOPosix
import Storage

/// Opens the store on a PostgreSQL database shared by every Corral node: migrates it (one node at a time, under an
/// advisory lock; a node older than the schema refuses to start) and hands `SQLDatabase` a writer connection and a
/// pool of readers.
public enum PostgresDatabase {
    /// The advisory lock key nodes hold while migrating ("corral" in ASCII).
    static let migrationLock: Int64 = 0x636f7272616c

    /// Identity sequences never behind their table's highest id (rows written with explicit ids: the root
    /// organisation, `corral migrate`); never moved backwards either, since other nodes may hold ids not yet committed.
    static let identitySequences = """
        DO $$ DECLARE r record; seq text; BEGIN
          FOR r IN SELECT table_name FROM information_schema.columns
                   WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES' LOOP
            seq := pg_get_serial_sequence(r.table_name, 'id');
            EXECUTE format('SELECT setval(%L, m) FROM (SELECT max(id) AS m FROM %I) s WHERE m IS NOT NULL AND m >= '
                           '(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s)', seq, r.table_name, seq);
          END LOOP;
        END $$
        """

    public static func open(url: String, readers readerCount: Int = 4, migrations: [Migration] = SQLStore.migrations) throws -> SQLDatabase {
        let target = try PostgresTarget(url: url)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var connections: [PostgresSQLConnection] = []
        func shutdown() {
            for c in connections { c.close() }
            group.shutdownGracefully { _ in }   // not the sync form: stop may run on an event loop (NIO is the global executor)
        }
        do {
            let writer = try PostgresSQLConnection(target: target, eventLoop: group.next())
            connections.append(writer)
            try writer.run("SELECT pg_advisory_lock(?)", [.int(migrationLock)])
            do {
                try Migrator.migrate(writer, migrations)
                try writer.execute(identitySequences)
                try writer.run("SELECT pg_advisory_unlock(?)", [.int(migrationLock)])
            } catch {
                try? writer.run("SELECT pg_advisory_unlock(?)", [.int(migrationLock)])
                throw error
            }
            try writer.loadIdentityTables()
            var rs: [any SQLConnection] = []
            for _ in 0..<max(1, readerCount) {
                let c = try PostgresSQLConnection(target: target, eventLoop: group.next())
                connections.append(c)
                c.identityTables = writer.identityTables
                rs.append(c)
            }
            let all = connections
            return SQLDatabase(path: target.description, writer: writer, readers: rs, close: {
                for c in all { c.close() }
                group.shutdownGracefully { _ in }   // not the sync form: stop may run on an event loop (NIO is the global executor)
            })
        } catch {
            shutdown()
            throw error
        }
    }
}
