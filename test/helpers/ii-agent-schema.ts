/**
 * The reference system's DDL exactly as SQLAlchemy emits it for SQLite
 * (ii-agent-interfaces.md §2, verified against sqlite_master), including the
 * trailing spaces, for tests that build an ii-agent `events.db` themselves.
 */
export const REFERENCE_DDL = `
CREATE TABLE session (
	id VARCHAR(36) NOT NULL, 
	workspace_dir VARCHAR NOT NULL, 
	created_at DATETIME, 
	device_id VARCHAR, 
	summary VARCHAR, 
	PRIMARY KEY (id), 
	UNIQUE (workspace_dir)
);
CREATE TABLE event (
	id VARCHAR(36) NOT NULL, 
	session_id VARCHAR(36) NOT NULL, 
	timestamp DATETIME, 
	event_type VARCHAR NOT NULL, 
	event_payload JSON NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(session_id) REFERENCES session (id) ON DELETE CASCADE
);
CREATE TABLE pro_usage (
	id INTEGER NOT NULL, 
	pro_key VARCHAR(8) NOT NULL, 
	month_year VARCHAR(7) NOT NULL, 
	sonnet_requests INTEGER, 
	created_at DATETIME, 
	updated_at DATETIME, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_pro_usage_pro_key ON pro_usage (pro_key);
`
