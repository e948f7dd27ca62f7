# fairway's container image: a static binary on distroless, non-root.
#   make image            (docker build -t fairway:dev .)
# The binary is built with CGO off, so it also runs when the fleet's init
# container copies it into the distroless Envoy image (fairway drain).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
    -o /out/fairway ./cmd/fairway

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/fairway /usr/local/bin/fairway
USER 65532:65532
# xDS (gRPC) and the health address the install gives (--health-address=:8081).
# The admin port stays on loopback, and serve binds xDS off loopback only
# with mTLS or --xds-insecure (README "Security").
EXPOSE 18000 8081
ENTRYPOINT ["fairway"]
CMD ["serve"]
