$(eval $(call program,testd,libexec,global util))
