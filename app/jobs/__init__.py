"""Analysis runs on the procrastinate job queue (stored in the same PostgreSQL).

A run (`AnalysisRun`) is split into chunks (`AnalysisRunChunk`), each one procrastinate job;
any number of workers share a run's chunks. See `service` for the state machine.
"""
