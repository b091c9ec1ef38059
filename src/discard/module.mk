$(eval $(call program,discard,libexec,global util))
