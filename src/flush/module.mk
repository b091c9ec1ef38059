$(eval $(call program,flush,libexec,global util))
