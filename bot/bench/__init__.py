"""`make bench`: speed and scale figures for docs/benchmarks.md ("Speed and scale").

One module per benchmark, each writing one JSON file under docs/figures/:
  conversations    simulated customers over REST and socket.io; start-up time; memory
  kb_scale         synthetic 10k-1M chunk indexes: build, size, memory, latency, recall@10
  kb_real          the same HNSW index on ~38k real sentence embeddings beside synthetic ones
  embedding_speed  sentences/s for ingestion, float32 vs int8, with StackFAQ quality
  tickets          tickets/s through the store, the helpdesk API and the chat; SQLite, PostgreSQL
  plots            the PNGs, from those JSON files
Run them with `python -m bot bench <name>`; the test suite runs each on a tiny size.
"""
