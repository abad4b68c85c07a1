# The harness image: the same CLI as on a laptop, with Locust for the load services. Anvil runs
# from the Foundry image instead.
#
# Run as it is, it is a CI service container: `up` on the embedded ledger, the mock xGen server on
# 8402 and the facilitator on 4021 (X402H_SERVER_PORT, X402H_FACILITATOR_PORT), listening on every
# address of the container only (X402H_SERVER_HOST); healthy once both answer. See docs/ci.md.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY x402_core x402_core
COPY x402_payer x402_payer
COPY x402_service x402_service
COPY facilitator_sim facilitator_sim
COPY mock_server mock_server
COPY conformance conformance
COPY loadtests loadtests
COPY x402_harness x402_harness
RUN pip install --no-cache-dir '.[load]'
ENV X402H_SERVER_HOST=0.0.0.0 \
    X402H_SERVER_PORT=8402 \
    X402H_FACILITATOR_PORT=4021
EXPOSE 8402 4021
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=30 \
    CMD python -c "import os, urllib.request as r; [r.urlopen(f'http://127.0.0.1:{os.environ[name]}/health', timeout=2) for name in ('X402H_SERVER_PORT', 'X402H_FACILITATOR_PORT')]"
# Bound to 0.0.0.0, the mock wants a token for its admin API: run the image with
# -e X402H_SERVER_ADMIN_TOKEN=... (and send it as "Authorization: Bearer ..." to /__mock__/*).
ENTRYPOINT ["x402-harness"]
CMD ["up"]
