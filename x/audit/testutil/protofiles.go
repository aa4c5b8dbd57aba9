package testutil

import (
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ResolvedProtoFiles rebuilds the proto files at paths and everything they import into one fully resolved
// registry, as proto.MergedRegistry does in nrod for AutoCLI. The gogo registry alone resolves files in
// init order, which leaves query.proto's reference to types.proto unresolved; and MergedRegistry itself fails
// in a test binary that does not link every module the SDK's protos refer to.
func ResolvedProtoFiles(t testing.TB, paths ...string) *protoregistry.Files {
	t.Helper()
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(path string)
	add = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		fd, err := gogoproto.HybridResolver.FindFileByPath(path)
		require.NoError(t, err, path)
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).Path())
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, path := range paths {
		add(path)
	}
	files, err := protodesc.NewFiles(set)
	require.NoError(t, err)
	return files
}
