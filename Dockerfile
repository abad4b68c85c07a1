# The harness image: the same CLI as on a laptop, with Locust for the load services. Anvil runs
# from the Foundry image instead.
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
ENTRYPOINT ["x402-harness"]
# Off loopback the mock's admin API needs a token: docker run -e X402H_SERVER_ADMIN_TOKEN=... image
CMD ["up", "--host", "0.0.0.0"]
