# shellcheck shell=sh
# How to install each tool the workshop needs: the one place for these lines, sourced by common.sh
# (bash) and by doctor.sh (POSIX sh, so this file is POSIX sh too). Uses KIND_VERSION and
# KUBECTL_VERSION from k8s/versions.env.
install_hint() {
  case $1 in
    docker) echo "install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/" ;;
    kind) echo "install kind $KIND_VERSION: https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or: go install sigs.k8s.io/kind@$KIND_VERSION)" ;;
    kubectl) echo "install kubectl $KUBECTL_VERSION (k8s/versions.env; within one minor of the cluster): https://kubernetes.io/docs/tasks/tools/" ;;
    minikube) echo "install minikube: https://minikube.sigs.k8s.io/docs/start/" ;;
    make) echo "install GNU make (Debian/Ubuntu: sudo apt-get install make; macOS: xcode-select --install)" ;;
    bash) echo "install bash 4.3 or newer (macOS: brew install bash; Debian/Ubuntu: sudo apt-get install bash)" ;;
    *) echo "install $1" ;;
  esac
}
