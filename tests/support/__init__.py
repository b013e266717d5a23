"""What the tests build their data and check their answers with, in one place:

- `factories`: small async builders of single rows (each commits), bearer headers, a
  valid report body, logins, and `empty_database`;
- `world`: the one organisation tree with a principal per role (`build_org`), and the
  richer world on top of it (`build_world`: more logins, peers at each scope position
  and one object of each kind) that the authorization matrix and the attack tests use;
- `problems`: assertions on problem documents and on what an answer may show;
- `reads`: rows read back in fresh sessions, every page of a list, and the fingerprint
  of everything stored (to prove a refused request wrote nothing);
- `stats`: the statistics tests' builders through the API and their brute-force recount.
"""
