// Tests never reach beyond loopback, and a test's stray log lines stay out of the report.
process.env.LOG_LEVEL ??= 'silent';
